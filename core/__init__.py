"""The kernel every Linli app may use and which uses none of them: typed errors, text
cleaning, enqueueing background work after commit, masking personal data, signed tokens."""
