/** Names of the pgmq queues the workers consume; created by the migrations. readyz requires all. */
export const QUEUES = {
  fileIndex: "file_index",
  storageGc: "storage_gc",
  reportJobs: "report_jobs",
  channelInbound: "channel_inbound",
} as const;

export const REQUIRED_QUEUES: readonly string[] = Object.values(QUEUES);
