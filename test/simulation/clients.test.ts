import * as fs from 'fs';
import { simulate } from '../../src/verify/simulator';
import { apiFixture, OTHER_CLIENTS, realKubectl } from '../support/kubectl';
import { dag, expectClean, synthPipeline } from './fixtures';

/**
 * The main scenarios with every kubectl version this machine has: 1.28 (the dev dependency)
 * always; 1.27 and 1.33 where the Cloud SDK ships them. Each absent client is a test of its
 * own that says so in the output, so what ran is always visible.
 */
const clients: Array<[string, string]> = [[`${realKubectl().version} (${realKubectl().source})`, realKubectl().path]];
for (const [minor, file] of Object.entries(OTHER_CLIENTS)) {
  if (fs.existsSync(file)) clients.push([`${minor} (${file})`, file]);
  else test(`kubectl ${minor} is not on this machine (${file}): its scenarios did not run`, () => expect(fs.existsSync(file)).toBe(false));
}

describe.each(clients)('with kubectl %s', (_label, client) => {
  test('patch is a GET then a merge PATCH, so the Role needs get as well as patch', async () => {
    const objects = synthPipeline({ steps: dag('a->b') });
    const name = objects.find((o) => o.metadata.labels?.['mlops.cdk8s.io/step'] === 'a')!.metadata.name;
    const f = await apiFixture(objects, undefined, client);
    try {
      expect(await f.run('patch', 'job', name, '-n', 'ml', '--type=merge', '-p', '{"spec":{"suspend":false}}')).toMatchObject({ code: 0 });
      expect(f.requests.filter((q) => q.verb !== 'discovery').map((q) => `${q.verb} ${q.code}`)).toEqual(['get 200', 'patch 200']);
    } finally {
      f.close();
    }
  });

  test('a diamond runs to completion in dependency order with the Role as synthesized', async () => {
    const r = await simulate(synthPipeline({ steps: dag('a->b->d a->c->d') }), { kubectl: client });
    expectClean(r);
    expect(r.client?.path).toBe(client);
    const { a, b, c, d } = r.steps;
    expect([b.startedAt, c.startedAt]).toEqual([a.finishedAt, a.finishedAt]);
    expect(d.startedAt).toBe(Math.max(b.finishedAt!, c.finishedAt!));
    expect(r.exitCode).toBe(0);
  });

  test('a failing step: its descendant is skipped naming it, exit 3', async () => {
    const r = await simulate(synthPipeline({ steps: dag('a->b->c') }), { kubectl: client, steps: { b: { exitCodes: [1] } } });
    expectClean(r);
    expect(r.skipped).toEqual({ c: "upstream step 'b' failed: BackoffLimitExceeded" });
    expect(r.exitCode).toBe(3);
  });
});
