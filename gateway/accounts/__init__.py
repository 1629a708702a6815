"""Account flows that span documents and providers: sign-up, sign-in, sessions, codes, two-factor, roles."""
