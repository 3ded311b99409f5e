/**
 * A simulated cluster that runs the coordinator script of synthesized YAML as written, for
 * checking the run-time ordering contract (docs/ordering.md) without a cluster.
 */
export { simulate } from './simulate';
export { loadCoordinator, SimulatorSetupError } from './load';
export type { CoordinatorSpec, PlanEntry, MountedFile } from './load';
export { mergePatch } from './merge-patch';
export { readLedger } from './ledger';
export type { LedgerView, LedgerState } from './ledger';
export { decisionDefinitions, decisionProgram, runDecision } from './decide';
export type { DecisionInput, DecisionOutput } from './decide';
export { findKubectl, NoKubectlError, HOW_TO_GET_KUBECTL } from './kubectl-client';
export type { KubectlClient } from './kubectl-client';
export type { ApiRequest } from './api-server';
export * from './types';
export { ObjectStoreModel, findAws, HOW_TO_GET_AWS } from './object-store';
export type { ObjectStoreOptions, ObjectStoreRequest } from './object-store';
