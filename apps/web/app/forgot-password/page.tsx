import Link from "next/link";
import { ForgotPasswordForm } from "./forgot-form.tsx";

export default function ForgotPasswordPage() {
  return (
    <div className="narrow card">
      <h1>Forgot your password?</h1>
      <p className="muted">Enter your account's email and we will send you a link to choose a new password.</p>
      <ForgotPasswordForm />
      <p className="muted"><Link href="/signin">Back to sign in</Link></p>
    </div>
  );
}
