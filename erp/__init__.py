"""ERP side: one adapter module per ERP behind one small interface (`erp.base.ErpAdapter`),
plus the capture of ERP changes into Kafka. Adapters are registered in `erp.registry`."""
