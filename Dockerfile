# modbot's image. Build stage: a virtualenv with modbot and its dependencies, and the tokenizer
# unpacked. Final stage: that virtualenv and the policies on a slim Python, no pip, no build
# tools, running as an unprivileged user, with a healthcheck on the /healthz endpoint.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/modbot
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN /opt/modbot/bin/pip install . \
 && /opt/modbot/bin/pip uninstall --yes pip setuptools wheel
# Unpack o200k_base from the bpe-openai package now, so no start ever needs the network.
RUN /opt/modbot/bin/python -c "from pathlib import Path; from bot.core.tokens import ensure_encoding_files; ensure_encoding_files(Path('/opt/tiktoken'))"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/modbot/bin:$PATH \
    TIKTOKEN_CACHE_DIR=/opt/tiktoken POLICY_DIR=/app/community_policies \
    DATABASE_PATH=/data/modbot.db METRICS_PORT=9108 METRICS_HOST=0.0.0.0 LOG_FORMAT=json
# The base image's own pip and setuptools go too: nothing installs anything at run time.
RUN python -m pip uninstall --yes pip setuptools wheel \
 && useradd --create-home --uid 10001 modbot \
 && mkdir -p /data && chown modbot /data
COPY --from=build /opt/modbot /opt/modbot
COPY --from=build /opt/tiktoken /opt/tiktoken
COPY community_policies /app/community_policies
WORKDIR /app
USER modbot
VOLUME ["/data"]
EXPOSE 9108
# Alive = the endpoint answers (the bot's event loop is running). Python, since slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('METRICS_PORT', '9108'), timeout=4)"]
CMD ["modbot", "run"]
