FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Pango and a font for WeasyPrint (the casebook PDF)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN pip install --no-cache-dir . \
 && useradd --create-home inkt && mkdir -p /var/lib/inkt && chown inkt /var/lib/inkt
USER inkt
EXPOSE 8000
