import Link from "next/link";
import { signInAction } from "../actions.ts";
import { AuthForm } from "../components/auth-form.tsx";

export default function SignInPage() {
  return (
    <div className="narrow card">
      <h1>Sign in</h1>
      <AuthForm action={signInAction} submitLabel="Sign in" />
      <p className="muted">New here? <Link href="/signup">Create an account</Link></p>
    </div>
  );
}
