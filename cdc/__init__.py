"""Binlog capture: PrestaShop's MySQL/MariaDB row changes into Kafka as Avro change events."""
