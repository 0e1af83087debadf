FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml requirements/constraints.txt ./requirements/
RUN mv requirements/pyproject.toml . \
    && mkdir -p brokerage members orders config core \
    && pip install -c requirements/constraints.txt -e .

COPY . .
# collectstatic needs settings that import; these values exist only for this build step.
RUN DEBUG=False SECRET_KEY=build ALLOWED_HOSTS=localhost DATABASE_URL=sqlite:////tmp/build.db \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 app && mkdir -p /app/var && chown -R app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
