import Link from "next/link";
import { signUpAction } from "../actions.ts";
import { AuthForm } from "../components/auth-form.tsx";

export default function SignUpPage() {
  return (
    <div className="narrow card">
      <h1>Create your account</h1>
      <AuthForm action={signUpAction} submitLabel="Sign up" passwordHint="At least 8 characters." />
      <p className="muted">Already have an account? <Link href="/signin">Sign in</Link></p>
    </div>
  );
}
