import { z } from "zod";

export const WorkspaceRole = z.enum(["owner", "admin", "member"], { message: "must be owner, admin or member" });
export type WorkspaceRole = z.infer<typeof WorkspaceRole>;

export const WorkspaceName = z.string().trim().min(1, "is required").max(80, "must be at most 80 characters");

export const CreateTeamRequest = z.object({ name: WorkspaceName });
export const RenameWorkspaceRequest = z.object({ name: WorkspaceName });

export const CreateInviteRequest = z.object({
  email: z.string().trim().toLowerCase().email("must be a valid email address"),
  role: WorkspaceRole.default("member"),
});

export const ChangeRoleRequest = z.object({ role: WorkspaceRole });
