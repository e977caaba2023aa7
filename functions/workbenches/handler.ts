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
 * access.ts decides who may do what; file_rows.ts is how file rows are read and returned.
 * Reads run as the caller (RLS); writes that clients may not do directly (file rows, Storage) use
 * the service role after the caller's workbench role has been checked (access.ts). Other tenants'
 * workbenches are 404.
 */
import type { JwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { router } from "../../shared/http.ts";
import type { ObjectStore } from "../../shared/storage.ts";
import { DEFAULT_LIMITS, type UploadLimits } from "../../shared/uploads/checks.ts";
import { type Access, workbenchAccess } from "./access.ts";
import { fileRoutes } from "./file_routes.ts";
import { createWorkbenchMemberRoutes } from "./member_routes.ts";
import { uploadRoutes } from "./upload_route.ts";
import { workbenchRoutes } from "./workbench_routes.ts";

export { DEFAULT_LIMITS, type UploadLimits };

export interface WorkbenchesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  store: ObjectStore;
  limits?: UploadLimits;
}

/** What every route group gets: the dependencies and the access checks. */
export interface WorkbenchesContext extends Access {
  deps: Required<WorkbenchesDeps>;
}

export function createWorkbenchesHandler(deps: WorkbenchesDeps) {
  const context: WorkbenchesContext = {
    deps: { ...deps, limits: deps.limits ?? DEFAULT_LIMITS },
    ...workbenchAccess(deps),
  };
  return router([
    ...workbenchRoutes(context),
    ...createWorkbenchMemberRoutes(deps),
    ...uploadRoutes(context),
    ...fileRoutes(context),
  ]);
}
