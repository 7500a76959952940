FROM python:3.11-slim
# procps: the compose health checks look for the worker and scheduler processes with pgrep
RUN apt-get update && apt-get install -y --no-install-recommends procps && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# editable, so that the project root (config/, var/) is /app, as in a checkout
RUN pip install --no-cache-dir --no-deps -e .
