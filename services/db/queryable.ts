import type { QueryResult, QueryResultRow } from 'pg';

/**
 * The one method domain code needs from `pg`: a Pool (autocommit) and a PoolClient inside a transaction
 * both satisfy it, which is how the deployment, not the domain, decides the transaction boundary.
 */
export interface Queryable {
  query<Row extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<Row>>;
}
