// @lucid/models: the model registry (models.json) and installing its models:
// hub downloads with resume and checksums, fixture models, verification.
export {
  DEFAULT_REGISTRY_PATH,
  defaultModelsDir,
  describeSource,
  findModel,
  loadModelRegistry,
  modelEntrySchema,
  modelRegistrySchema,
  ModelRegistryError,
  resolveModelDir,
  UnknownModelError,
  type HubSource,
  type ModelEntry,
  type ModelSource,
} from "./registry.ts";
export {
  ChecksumMismatchError,
  DEFAULT_HUB_URL,
  hubConnectionFromEnv,
  listPipelineFiles,
  ModelPullError,
  PIPELINE_FOLDERS,
  pullHubRepo,
  type HubConnection,
  type HubPullOptions,
  type PullProgress,
} from "./hub.ts";
export { hashFile, MANIFEST_FILE, readManifest, verifyModelDir, type ManifestFile, type ModelManifest, type VerifyReport } from "./manifest.ts";
export { modelStatus, pullModel, verifyModel, type ModelStatus, type PulledModel, type PullModelOptions } from "./install.ts";
