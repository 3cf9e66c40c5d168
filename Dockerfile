# syntax=docker/dockerfile:1
# Build stage: compile wheels (asyncpg, cryptography…) with the build tools the final image lacks.
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/casegraph && /opt/casegraph/bin/pip install --no-cache-dir --upgrade pip
ENV PATH=/opt/casegraph/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY casegraph ./casegraph
COPY models ./models
COPY schema ./schema
COPY resolvers ./resolvers
RUN pip install --no-cache-dir .

# Final stage: the virtualenv only, run as an unprivileged user.
FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/casegraph --create-home casegraph
COPY --from=build /opt/casegraph /opt/casegraph
# Production unless told otherwise: the image refuses to start without a real JWT secret (or
# JWKS URL) and a metrics token, instead of serving with the published development secret.
ENV PATH=/opt/casegraph/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CASEGRAPH_ENV=production \
    CASEGRAPH_DATABASE_URL=sqlite:///var/lib/casegraph/casegraph.sqlite3
USER casegraph
WORKDIR /var/lib/casegraph
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
CMD ["casegraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
