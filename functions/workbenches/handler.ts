/**
 * The `workbenches` function: workbenches, their files and uploads. Where each route is:
 *
 * - workbench_routes.ts: `POST /`, `GET /`, `GET /:id`
 * - member_routes.ts: `PATCH /:id`, `DELETE /:id`, `GET/POST/DELETE /:id/members`,
 *   `PATCH/DELETE /:id/members/:userId`
 * - upload_route.ts: `POST /:id/files` (receive_uploads.ts streams and checks the files,
 *   commit_uploads.ts writes their rows)
 * - file_routes.ts: `GET /:id/files`, `GET /:id/files/:fileId`, `DELETE /:id/files/:fileId`,
 *   `GET /:id/status`
 *
 * uploads/ holds the upload checks (type sniffing, limits, PDF page counts, ZIP inflation caps,
 * the streaming multipart reader), which only this function runs. access.ts decides who may do
 * what; file_rows.ts is how file rows are read and returned; deps.ts is what the routes need
 * (`workbenchesDepsFromEnv()` for index.ts).
 *
 * Reads run as the caller (RLS); writes that clients may not do directly (file rows, Storage) use
 * the service role after the caller's workbench role has been checked (access.ts). Other tenants'
 * workbenches are 404.
 */
import { router } from "../../shared/http.ts";
import type { WorkbenchesDeps } from "./deps.ts";
import { fileRoutes } from "./file_routes.ts";
import { memberRoutes } from "./member_routes.ts";
import { uploadRoutes } from "./upload_route.ts";
import { workbenchRoutes } from "./workbench_routes.ts";

export function createWorkbenchesHandler(deps: WorkbenchesDeps) {
  return router([
    ...workbenchRoutes(deps),
    ...memberRoutes(deps),
    ...uploadRoutes(deps),
    ...fileRoutes(deps),
  ]);
}
