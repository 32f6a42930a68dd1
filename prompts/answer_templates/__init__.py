"""Answer templates of the buyer-question skill (deterministic engine)."""
