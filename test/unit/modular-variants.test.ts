import { describe, expect, it } from 'vitest';
import { moduleDatabaseUrl } from '../../services/modular/module-schemas.ts';
import { planWiring } from '../../lab/runtime/deployment-wiring.ts';
import { modular } from '../../lab/vocabulary/variants.ts';

describe('modular variants', () => {
  it('names the in-process and the worker variant, and sets PAYMENT_MODULE only for the worker', () => {
    expect(modular()).toEqual({ name: 'modular', deployment: 'modular', settings: {} });
    expect(modular({ paymentOn: 'worker' })).toEqual({
      name: 'modular/worker',
      deployment: 'modular',
      settings: { PAYMENT_MODULE: 'worker' },
    });
    expect(modular({ paymentOn: 'in-process', name: 'modular/own' }).name).toBe('modular/own');
  });

  it('is wired as one process behind edge-modular with one database through modular-db', () => {
    const wiring = planWiring('modular');
    expect(wiring.services.map((service) => service.name)).toEqual(['modular']);
    expect(wiring.links).toEqual(['edge-modular', 'modular-db']);
    expect(wiring.audit).toEqual({ users: 'modular', payments: 'modular' });
  });
});

describe('moduleDatabaseUrl', () => {
  it("adds the module's search_path as a startup option and keeps the rest of the URL", () => {
    const url = new URL(
      moduleDatabaseUrl('postgres://lab:secret@127.0.0.1:5432/modular', ['signup', 'payment']),
    );
    expect(url.searchParams.get('options')).toBe('-c search_path=signup,payment');
    expect(`${url.username}:${url.password}@${url.host}${url.pathname}`).toBe(
      'lab:secret@127.0.0.1:5432/modular',
    );
  });
});
