"""Operations: request context, middleware, input guards, uploads, backups, logging, static files."""
