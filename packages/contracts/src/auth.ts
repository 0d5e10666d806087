import { z } from "zod";

export const SignUpRequest = z.object({
  email: z.string().trim().toLowerCase().email("must be a valid email address"),
  password: z.string().min(8, "must be at least 8 characters").max(200, "must be at most 200 characters"),
});
export const SignInRequest = z.object({
  email: z.string().trim().toLowerCase().email("must be a valid email address"),
  password: z.string().min(1, "is required"),
});
export const CreateApiKeyRequest = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters"),
});
