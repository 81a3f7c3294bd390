# The prediction service in a container: `make image`, then
#   docker run -p 8000:8000 -e CHURNOPS_API_TOKEN=... \
#     -v "$PWD/models/serving:/srv/model:ro" -v churnops-logs:/srv/logs churnops:latest
# The model bundle (models/serving: model, metadata, schema, compiled model, each file's sha256)
# is mounted at run time, so one image serves any registered version (`churnops registry fetch`
# or `dvc artifacts get` puts a version's bundle in a folder). Only the serving dependencies are
# installed (pyproject's base set: no DVC, Evidently or matplotlib).

# 1. build a wheel of the package
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# 2. the runtime: the wheel and the serving dependencies, pinned as in requirements.txt; with
#    --build-arg EXTRAS=explain also SHAP, which reason codes of non-linear models need
FROM python:3.11-slim
ARG EXTRAS=""
COPY requirements.txt /tmp/requirements.txt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --constraint /tmp/requirements.txt \
        "churnops[${EXTRAS}] @ file://$(echo /wheels/churnops-*.whl)" \
    && rm -rf /wheels /tmp/requirements.txt \
    && useradd --create-home --uid 10001 churnops \
    && mkdir -p /srv/model /srv/logs \
    && chown churnops /srv/logs
USER 10001
WORKDIR /srv
ENV CHURNOPS_HOST=0.0.0.0 \
    CHURNOPS_PORT=8000 \
    CHURNOPS_MODEL=/srv/model/model.joblib \
    CHURNOPS_META=/srv/model/model_meta.json \
    CHURNOPS_SCHEMA=/srv/model/schema.json \
    CHURNOPS_COMPILED=/srv/model/compiled \
    CHURNOPS_LOG=/srv/logs/predictions.sqlite \
    CHURNOPS_PARAMS=/srv/no-params.yaml \
    PYTHONUNBUFFERED=1
VOLUME ["/srv/logs"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
# beyond loopback the service needs CHURNOPS_API_TOKEN (docker run -e ...): it refuses to start
# without one
ENTRYPOINT ["churnops", "serve"]
