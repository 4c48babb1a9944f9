FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TIKTOKEN_CACHE_DIR=/app/.cache/tiktoken DATABASE_PATH=/data/modbot.db
WORKDIR /app
RUN useradd --create-home --uid 10001 modbot && mkdir -p /data && chown modbot /data

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY community_policies ./community_policies
RUN pip install --no-cache-dir . \
 && mkdir -p /app/.cache && chown -R modbot /app/.cache

USER modbot
# Unpack the tokenizer at build time's user so the first start needs no network.
RUN python -c "from bot.core.tokens import ensure_encoding_files; from pathlib import Path; ensure_encoding_files(Path('/app/.cache/tiktoken'))"
VOLUME ["/data"]
CMD ["modbot", "run"]
