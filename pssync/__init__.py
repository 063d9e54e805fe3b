"""pssync: change-data-capture and sync between PrestaShop shops and ERPs."""
