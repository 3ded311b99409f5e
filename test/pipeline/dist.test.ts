import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { addExamples } from '../../examples/app';
import { synth } from '../support/synth';

describe('dist/', () => {
  test('holds exactly what a fresh synth of the examples writes', () => {
    const dist = join(__dirname, '..', '..', 'dist');
    const committed = Object.fromEntries(readdirSync(dist).sort().map((f) => [f, readFileSync(join(dist, f), 'utf8')]));
    // If this fails after an intended change, run `npm run synth` and commit dist/.
    // cdk8s.yaml's validation plugin makes the CLI record construct-metadata.json too.
    const fresh = synth(addExamples, { recordConstructMetadata: true }).files;
    expect(Object.keys(fresh)).toEqual(['churn-nightly.k8s.yaml', 'churn-retrain.k8s.yaml', 'churn.k8s.yaml', 'construct-metadata.json', 'diamond.k8s.yaml', 'forecast.k8s.yaml', 'recommend.k8s.yaml', 'scoring.k8s.yaml', 'sweep.k8s.yaml']);
    expect(fresh).toEqual(committed);
  });
});
