//! Bitcoin Core's kernel as referee (see README.md). No code has landed yet.
