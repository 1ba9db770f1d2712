FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir . \
 && useradd --create-home inkt && mkdir -p /var/lib/inkt && chown inkt /var/lib/inkt
USER inkt
EXPOSE 8000
