/**
 * Resource isolation for the agent: the `Isolator` contract, its three implementations
 * (cgroups v1, cgroups v2, posix) and the run-time choice between them.
 */
export { IsolatorKind, ISOLATION_MODES, type IsolationMode, type Isolator, type ContainerLaunch, type ContainerLimitation, type ContainerLimits, type ContainerSpec, type ContainerUsage, type RecoveredContainer } from './types.js';
export { createIsolator, DEFAULT_CGROUPS_ROOT, type IsolatorOptions } from './detect.js';
export { containerLimits, memoryLimitation, MB } from './limits.js';
export { CgroupsV1Isolator } from './cgroups-v1.js';
export { CgroupsV2Isolator } from './cgroups-v2.js';
export { PosixIsolator } from './posix.js';
