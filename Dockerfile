# Tingfeng (听风) application image: the API, the scheduler/worker and the CLI.
# Built by docker-compose.yml; see docs/elasticsearch.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Dependencies first, so editing the code does not reinstall them: install what
# pyproject.toml lists, then the project itself without touching the dependencies again.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps))" \
    && pip install -r /tmp/requirements.txt
COPY . .
RUN pip install --no-deps . && rm -rf /src/build

# Run as an unprivileged user; /config holds tingfeng.yaml (read-only), /data the rest.
RUN useradd --create-home --uid 10001 tingfeng \
    && mkdir -p /config /data \
    && chown tingfeng /data
USER tingfeng
# tingfeng looks for ./tingfeng.yaml; a missing file means "defaults + environment".
WORKDIR /config
VOLUME ["/data"]
EXPOSE 8000

ENTRYPOINT ["tingfeng"]
CMD ["--help"]
