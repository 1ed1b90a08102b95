// mpip's public API: each verb is one line; the CLI is a thin shell around these.

export { install, type InstallOptions, type InstallReport, type InstalledPackage } from "./install.js";
export { download, type DownloadOptions, type DownloadReport, type DownloadedPackage } from "./download.js";
export { lock, type LockOptions, type LockReport } from "./lock/lock.js";
export { installLocked, type LockedInstallOptions } from "./lock/install-locked.js";
export { buildIndex, type IndexBuildOptions, type IndexBuildReport } from "./publish/build.js";
export { packProject, type PackOptions, type PackResult } from "./pack/pack.js";
export { MpipError, type ErrorCode } from "./errors.js";
export { Reporter } from "./log.js";
export { parseRequirement, type Requirement } from "./spec/requirement.js";
export { readRecords, type Distribution, type ImageRecords } from "./record/read.js";
export { takeInventory, type Inventory } from "./record/inventory.js";
export { cacheInfo, cleanCache, type CacheInfo, type CleanResult } from "./cache/maintenance.js";
