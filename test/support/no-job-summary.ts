// The lab appends a Markdown summary to GITHUB_STEP_SUMMARY when it is set. The CLIs these tests start
// inherit the environment: on GitHub they would write their throwaway runs into the real job summary.
// Tests that check the summary set the variable themselves, for their own child only.
delete process.env.GITHUB_STEP_SUMMARY;
