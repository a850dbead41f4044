# wmgen image for the Ray head and workers of docker-compose.yml.
# CPU torch by default; GPU workers build with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124
FROM python:3.11-slim
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 RAY_USAGE_STATS_ENABLED=0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scenario_library ./scenario_library
COPY generator ./generator
COPY serving ./serving
RUN pip install --no-cache-dir --extra-index-url "${TORCH_INDEX}" '.[s3]'
RUN useradd --create-home wmgen
USER wmgen
EXPOSE 8000
CMD ["ray", "start", "--head", "--block"]
