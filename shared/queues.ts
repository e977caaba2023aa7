/** Names of the pgmq queues the workers consume; created by the platform migration. */
export const QUEUES = {
  fileIndex: "file_index",
  reportJobs: "report_jobs",
} as const;

export const REQUIRED_QUEUES: readonly string[] = Object.values(QUEUES);
