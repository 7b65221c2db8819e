export { runWorker, type WorkerOptions, type WorkerSummary } from './worker.ts';
export { processJob, type JobOutcome, type JobDeps } from './job.ts';
export { decideSideEffects, type SideEffectInput, type SuppressReason, type Decision } from './policy.ts';
export { runMaintenance, type MaintenanceResult } from './maintenance.ts';
export { runWorkerService, resolveWorkerSettings, type WorkerFlags, type WorkerServiceOptions, type WorkerServiceResult } from './service.ts';
