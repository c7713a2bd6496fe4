import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { lazyAdmin } from './lazy.ts';

const req = {} as IncomingMessage;
const res = {} as ServerResponse;

describe('lazyAdmin', () => {
  it('loads on the first request only, and serves every request with what it loaded', async () => {
    let loads = 0;
    const served: string[] = [];
    const admin = lazyAdmin(async () => {
      loads++;
      return { handle: async (_req, _res, path) => void served.push(path) };
    });
    expect(loads).toBe(0);
    await Promise.all([admin.handle(req, res, '/admin/v1/a'), admin.handle(req, res, '/admin/v1/b')]);
    await admin.handle(req, res, '/admin/v1/c');
    expect(loads).toBe(1);
    expect(served).toEqual(['/admin/v1/a', '/admin/v1/b', '/admin/v1/c']);
  });

  it('fails the request whose load failed, and loads again on the next', async () => {
    let loads = 0;
    const admin = lazyAdmin(async () => {
      if (++loads === 1) throw new Error('disk gone');
      return { handle: async () => {} };
    });
    await expect(admin.handle(req, res, '/admin/v1/x')).rejects.toThrow('disk gone');
    await admin.handle(req, res, '/admin/v1/x');
    expect(loads).toBe(2);
  });
});
