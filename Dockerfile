# The production image: Python slim, the runtime requirements only, a non-root user, and the README's
# gunicorn command (gevent workers; gunicorn.conf.py from the working directory). See README "Docker".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    INSTANCE_DIR=/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin paipai \
    && mkdir -p /app /data \
    && chown paipai:paipai /app /data

WORKDIR /app
COPY requirements.txt ./
RUN python -m venv .venv && .venv/bin/pip install --require-hashes -r requirements.txt

COPY --chown=paipai:paipai . .
USER paipai

EXPOSE 8000
VOLUME ["/data"]
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD [".venv/bin/gunicorn", "-k", "gevent", "-w", "4", "-b", "0.0.0.0:8000", "app:create_app()"]
