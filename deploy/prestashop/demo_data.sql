-- ---------------------------------------------------------------------------
-- PrestaShop 8.x demo data shaped like the installer's "fashion" fixtures
-- (install-dev/fixtures/fashion/data/*.xml), see shared/reference/prestashop.md §5.
-- ---------------------------------------------------------------------------
-- Load after schema.sql; `PREFIX_` is replaced by the loader (default `ps_`).
-- Every row has an explicit id.
--
-- Deliberate differences from the upstream fixture XML (which is internally
-- inconsistent): order totals are recomputed so that
--   total_products = SUM(order_detail.total_price_tax_excl),
--   total_paid_tax_excl = total_products + total_shipping_tax_excl, ...
-- with a 0 % tax everywhere (id_tax_rules_group = 0, tax incl = tax excl) and a
-- 7.00 shipping fee equal to order_carrier.shipping_cost_*.
--
-- Stock: every combination row has quantity 300; product-level rows
-- (id_product_attribute = 0) hold the SUM of their combination rows; standard /
-- virtual products 300; the pack 100.  reserved_quantity counts the still-open
-- orders (states 1 and 10: not shipped, not canceled / in error) and
-- physical_quantity = quantity + reserved_quantity on every row.
-- Orders 1 (canceled) and 3 (payment error) reserve nothing.
-- ---------------------------------------------------------------------------

SET sql_mode = '';
SET NAMES 'utf8mb4';

-- Shop group 1 / shop 1 (single-shop install)
INSERT INTO `PREFIX_shop_group` (`id_shop_group`, `name`, `color`, `share_customer`, `share_order`, `share_stock`, `active`, `deleted`) VALUES
  (1, 'Default', '', 0, 0, 0, 1, 0);

INSERT INTO `PREFIX_shop` (`id_shop`, `id_shop_group`, `name`, `color`, `id_category`, `theme_name`, `active`, `deleted`) VALUES
  (1, 1, 'PrestaShop', '', 2, 'classic', 1, 0);

INSERT INTO `PREFIX_lang` (`id_lang`, `name`, `active`, `iso_code`, `language_code`, `locale`, `date_format_lite`, `date_format_full`, `is_rtl`) VALUES
  (1, 'English (English)', 1, 'en', 'en-us', 'en-US', 'm/d/Y', 'm/d/Y H:i:s', 0);

INSERT INTO `PREFIX_lang_shop` (`id_lang`, `id_shop`) VALUES
  (1, 1);

-- Currencies: EUR is the default currency (PS_CURRENCY_DEFAULT = 1)
INSERT INTO `PREFIX_currency` (`id_currency`, `name`, `iso_code`, `numeric_iso_code`, `precision`, `conversion_rate`, `deleted`, `active`, `unofficial`, `modified`) VALUES
  (1, 'Euro', 'EUR', '978', 2, 1.000000, 0, 1, 0, 0),
  (2, 'US Dollar', 'USD', '840', 2, 1.080000, 0, 1, 0, 0);

-- The 13 default order states (install-dev/data/xml/order_state.xml order; flags per reference table LPSDIE)
INSERT INTO `PREFIX_order_state` (`id_order_state`, `invoice`, `send_email`, `module_name`, `color`, `unremovable`, `hidden`, `logable`, `delivery`, `shipped`, `paid`, `pdf_invoice`, `pdf_delivery`, `deleted`) VALUES
  (1, 0, 1, 'ps_checkpayment', '#34209E', 1, 0, 0, 0, 0, 0, 0, 0, 0),
  (2, 1, 1, NULL, '#3498D8', 1, 0, 1, 0, 0, 1, 1, 0, 0),
  (3, 1, 1, NULL, '#3498D8', 1, 0, 1, 1, 0, 1, 1, 0, 0),
  (4, 1, 1, NULL, '#01b887', 1, 0, 1, 1, 1, 1, 1, 1, 0),
  (5, 1, 0, NULL, '#01b887', 1, 0, 1, 1, 1, 1, 1, 1, 0),
  (6, 0, 1, NULL, '#2C3E50', 1, 0, 0, 0, 0, 0, 0, 0, 0),
  (7, 1, 1, NULL, '#ED2B43', 1, 0, 0, 0, 0, 0, 1, 0, 0),
  (8, 0, 1, NULL, '#E74C3C', 1, 0, 0, 0, 0, 0, 0, 0, 0),
  (9, 1, 1, NULL, '#3498D8', 1, 0, 0, 0, 0, 1, 1, 0, 0),
  (10, 0, 1, 'ps_wirepayment', '#34209E', 1, 0, 0, 0, 0, 0, 0, 0, 0),
  (11, 1, 1, NULL, '#3498D8', 1, 0, 1, 0, 0, 1, 1, 0, 0),
  (12, 0, 1, NULL, '#34209E', 1, 0, 0, 0, 0, 0, 0, 0, 0),
  (13, 0, 0, 'ps_cashondelivery', '#34209E', 1, 0, 0, 0, 0, 0, 0, 0, 0);

INSERT INTO `PREFIX_order_state_lang` (`id_order_state`, `id_lang`, `name`, `template`) VALUES
  (1, 1, 'Awaiting check payment', 'cheque'),
  (2, 1, 'Payment accepted', 'payment'),
  (3, 1, 'Processing in progress', 'preparation'),
  (4, 1, 'Shipped', 'shipped'),
  (5, 1, 'Delivered', ''),
  (6, 1, 'Canceled', 'order_canceled'),
  (7, 1, 'Refunded', 'refund'),
  (8, 1, 'Payment error', 'payment_error'),
  (9, 1, 'On backorder (paid)', 'outofstock'),
  (10, 1, 'Awaiting bank wire payment', 'bankwire'),
  (11, 1, 'Remote payment accepted', 'payment'),
  (12, 1, 'On backorder (not paid)', 'outofstock'),
  (13, 1, 'Awaiting Cash On Delivery validation', 'cashondelivery');

-- Global configuration (id_shop_group / id_shop NULL)
INSERT INTO `PREFIX_configuration` (`id_configuration`, `id_shop_group`, `id_shop`, `name`, `value`, `date_add`, `date_upd`) VALUES
  (1, NULL, NULL, 'PS_OS_CHEQUE', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (2, NULL, NULL, 'PS_OS_PAYMENT', '2', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (3, NULL, NULL, 'PS_OS_PREPARATION', '3', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (4, NULL, NULL, 'PS_OS_SHIPPING', '4', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (5, NULL, NULL, 'PS_OS_DELIVERED', '5', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (6, NULL, NULL, 'PS_OS_CANCELED', '6', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (7, NULL, NULL, 'PS_OS_REFUND', '7', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (8, NULL, NULL, 'PS_OS_ERROR', '8', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (9, NULL, NULL, 'PS_OS_OUTOFSTOCK_PAID', '9', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (10, NULL, NULL, 'PS_OS_BANKWIRE', '10', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (11, NULL, NULL, 'PS_OS_WS_PAYMENT', '11', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (12, NULL, NULL, 'PS_OS_OUTOFSTOCK_UNPAID', '12', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (13, NULL, NULL, 'PS_OS_COD_VALIDATION', '13', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (14, NULL, NULL, 'PS_STOCK_MANAGEMENT', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (15, NULL, NULL, 'PS_ORDER_OUT_OF_STOCK', '0', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (16, NULL, NULL, 'PS_ADVANCED_STOCK_MANAGEMENT', '0', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (17, NULL, NULL, 'PS_STOCK_CUSTOMER_ORDER_REASON', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (18, NULL, NULL, 'PS_STOCK_CUSTOMER_ORDER_CANCEL_REASON', '2', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (19, NULL, NULL, 'PS_STOCK_CUSTOMER_RETURN_REASON', '3', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (20, NULL, NULL, 'PS_CURRENCY_DEFAULT', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (21, NULL, NULL, 'PS_SHOP_DEFAULT', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (22, NULL, NULL, 'PS_LANG_DEFAULT', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (23, NULL, NULL, 'PS_COUNTRY_DEFAULT', '8', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (24, NULL, NULL, 'PS_WEBSERVICE', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (25, NULL, NULL, 'PS_MULTISHOP_FEATURE_ACTIVE', '0', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (26, NULL, NULL, 'PS_PRICE_ROUND_MODE', '2', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (27, NULL, NULL, 'PS_ROUND_TYPE', '1', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (28, NULL, NULL, 'PS_SHOP_NAME', 'PrestaShop', '2024-01-02 10:00:00', '2024-01-02 10:00:00'),
  (29, NULL, NULL, 'PS_SHOP_EMAIL', 'pub@prestashop.com', '2024-01-02 10:00:00', '2024-01-02 10:00:00');

-- Carriers: 1 = pick-up in store (free), 2 = "My carrier" used by the demo orders
INSERT INTO `PREFIX_carrier` (`id_carrier`, `id_reference`, `name`, `url`, `active`, `deleted`, `shipping_handling`, `range_behavior`, `is_module`, `is_free`, `shipping_external`, `need_range`, `external_module_name`, `shipping_method`, `position`, `max_width`, `max_height`, `max_depth`, `max_weight`, `grade`) VALUES
  (1, 1, 'Click and collect', '', 1, 0, 0, 0, 0, 1, 0, 0, '', 0, 0, 0, 0, 0, 0.000000, 0),
  (2, 2, 'My carrier', '', 1, 0, 1, 0, 0, 0, 0, 0, '', 0, 1, 0, 0, 0, 0.000000, 0);

-- Demo customer John DOE (password hash is a placeholder)
INSERT INTO `PREFIX_customer` (`id_customer`, `id_shop_group`, `id_shop`, `id_gender`, `id_default_group`, `id_lang`, `id_risk`, `company`, `siret`, `ape`, `firstname`, `lastname`, `email`, `passwd`, `last_passwd_gen`, `birthday`, `newsletter`, `ip_registration_newsletter`, `newsletter_date_add`, `optin`, `website`, `outstanding_allow_amount`, `show_public_prices`, `max_payment_days`, `secure_key`, `note`, `active`, `is_guest`, `deleted`, `date_add`, `date_upd`, `reset_password_token`, `reset_password_validity`) VALUES
  (1, 1, 1, 1, 3, 1, 0, NULL, NULL, NULL, 'John', 'DOE', 'pub@prestashop.com', '$2y$10$8zM2nFbQk1Yb0U6m0mJ3Xeq1Q9m5m2aV7b0rS6c3O0m1v6H0i4h7S', '2024-01-02 10:00:00', '1970-01-15', 1, NULL, '2024-01-02 10:00:00', 1, NULL, 0.000000, 0, 0, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', NULL, 1, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', NULL, NULL);

-- Addresses: 1 = Paris (FR, id_country 8), 2 = Miami (US, id_country 21, Florida id_state 9)
INSERT INTO `PREFIX_address` (`id_address`, `id_country`, `id_state`, `id_customer`, `id_manufacturer`, `id_supplier`, `id_warehouse`, `alias`, `company`, `lastname`, `firstname`, `address1`, `address2`, `postcode`, `city`, `other`, `phone`, `phone_mobile`, `vat_number`, `dni`, `date_add`, `date_upd`, `active`, `deleted`) VALUES
  (1, 8, 0, 1, 0, 0, 0, 'Mon adresse', 'My Company', 'DOE', 'John', '16, Main street', '2nd floor', '75002', 'Paris', '', '0102030405', '', '', '', '2024-01-02 10:00:00', '2024-01-02 10:00:00', 1, 0),
  (2, 21, 9, 1, 0, 0, 0, 'My address', 'My Company', 'DOE', 'John', '16, Main street', '2nd floor', '33133', 'Miami', '', '0102030405', '', '', '', '2024-01-02 10:00:00', '2024-01-02 10:00:00', 1, 0);

-- 19 demo products (prices tax excluded; product.quantity is the deprecated copy of the product-level stock)
INSERT INTO `PREFIX_product` (`id_product`, `id_supplier`, `id_manufacturer`, `id_category_default`, `id_shop_default`, `id_tax_rules_group`, `on_sale`, `online_only`, `ean13`, `isbn`, `upc`, `mpn`, `ecotax`, `quantity`, `minimal_quantity`, `low_stock_threshold`, `low_stock_alert`, `price`, `wholesale_price`, `unity`, `unit_price`, `unit_price_ratio`, `additional_shipping_cost`, `reference`, `supplier_reference`, `location`, `width`, `height`, `depth`, `weight`, `out_of_stock`, `additional_delivery_times`, `quantity_discount`, `customizable`, `uploadable_files`, `text_fields`, `active`, `redirect_type`, `id_type_redirected`, `available_for_order`, `available_date`, `show_condition`, `condition`, `show_price`, `indexed`, `visibility`, `cache_is_pack`, `cache_has_attachments`, `is_virtual`, `cache_default_attribute`, `date_add`, `date_upd`, `advanced_stock_management`, `pack_stock_type`, `state`, `product_type`) VALUES
  (1, 0, 1, 4, 1, 0, 0, 0, '', '', '', '', 0.000000, 2400, 1, NULL, 0, 23.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_1', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 1, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (2, 0, 1, 5, 1, 0, 0, 0, '', '', '', '', 0.000000, 1200, 1, NULL, 0, 35.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_3', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 9, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (3, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 900, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_6', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 13, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (4, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 900, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_5', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 16, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (5, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 900, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_7', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 19, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (6, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_11', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'standard'),
  (7, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_12', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'standard'),
  (8, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_13', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'standard'),
  (9, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 600, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_15', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 22, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (10, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 600, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_16', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 24, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (11, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 600, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_17', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 26, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (12, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_18', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 1, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'virtual'),
  (13, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_19', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 1, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'virtual'),
  (14, 0, 2, 9, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_20', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 1, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'virtual'),
  (15, 0, 0, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 100, 1, NULL, 0, 35.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_21', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 1, 0, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'pack'),
  (16, 0, 2, 7, 1, 0, 0, 0, '', '', '', '', 0.000000, 1200, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_8', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 28, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (17, 0, 2, 7, 1, 0, 0, 0, '', '', '', '', 0.000000, 1200, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_9', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 32, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (18, 0, 2, 7, 1, 0, 0, 0, '', '', '', '', 0.000000, 1200, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_10', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 36, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'combinations'),
  (19, 0, 1, 8, 1, 0, 0, 0, '', '', '', '', 0.000000, 300, 1, NULL, 0, 13.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 'demo_14', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 1, 0, 1, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 0, 3, 1, 'standard');

INSERT INTO `PREFIX_product_shop` (`id_product`, `id_shop`, `id_category_default`, `id_tax_rules_group`, `on_sale`, `online_only`, `ecotax`, `minimal_quantity`, `low_stock_threshold`, `low_stock_alert`, `price`, `wholesale_price`, `unity`, `unit_price`, `unit_price_ratio`, `additional_shipping_cost`, `customizable`, `uploadable_files`, `text_fields`, `active`, `redirect_type`, `id_type_redirected`, `available_for_order`, `available_date`, `show_condition`, `condition`, `show_price`, `indexed`, `visibility`, `cache_default_attribute`, `advanced_stock_management`, `date_add`, `date_upd`, `pack_stock_type`) VALUES
  (1, 1, 4, 0, 0, 0, 0.000000, 1, NULL, 0, 23.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 1, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (2, 1, 5, 0, 0, 0, 0.000000, 1, NULL, 0, 35.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 9, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (3, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 13, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (4, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 16, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (5, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 29.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 19, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (6, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (7, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (8, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 11.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (9, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 22, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (10, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 24, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (11, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 18.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 26, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (12, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (13, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (14, 1, 9, 0, 0, 0, 0.000000, 1, NULL, 0, 9.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (15, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 35.000000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (16, 1, 7, 0, 0, 0, 0.000000, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 28, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (17, 1, 7, 0, 0, 0, 0.000000, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 32, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (18, 1, 7, 0, 0, 0, 0.000000, 1, NULL, 0, 12.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 0, 0, 0, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 36, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3),
  (19, 1, 8, 0, 0, 0, 0.000000, 1, NULL, 0, 13.900000, 0.000000, '', 0.000000, 0.000000, 0.000000, 1, 0, 1, 1, '404', 0, 1, '0000-00-00', 0, 'new', 1, 1, 'both', 0, 0, '2024-01-02 10:00:00', '2024-01-02 10:00:00', 3);

INSERT INTO `PREFIX_product_lang` (`id_product`, `id_shop`, `id_lang`, `description`, `description_short`, `link_rewrite`, `meta_description`, `meta_keywords`, `meta_title`, `name`, `available_now`, `available_later`, `delivery_in_stock`, `delivery_out_stock`) VALUES
  (1, 1, 1, '<p>Hummingbird printed t-shirt</p>', '<p>Hummingbird printed t-shirt</p>', 'hummingbird-printed-t-shirt', '', '', '', 'Hummingbird printed t-shirt', '', '', '', ''),
  (2, 1, 1, '<p>Hummingbird printed sweater</p>', '<p>Hummingbird printed sweater</p>', 'hummingbird-printed-sweater', '', '', '', 'Hummingbird printed sweater', '', '', '', ''),
  (3, 1, 1, '<p>The best is yet to come\' Framed poster</p>', '<p>The best is yet to come\' Framed poster</p>', 'the-best-is-yet-to-come-framed-poster', '', '', '', 'The best is yet to come\' Framed poster', '', '', '', ''),
  (4, 1, 1, '<p>The adventure begins Framed poster</p>', '<p>The adventure begins Framed poster</p>', 'the-adventure-begins-framed-poster', '', '', '', 'The adventure begins Framed poster', '', '', '', ''),
  (5, 1, 1, '<p>Today is a good day Framed poster</p>', '<p>Today is a good day Framed poster</p>', 'today-is-a-good-day-framed-poster', '', '', '', 'Today is a good day Framed poster', '', '', '', ''),
  (6, 1, 1, '<p>Mug The best is yet to come</p>', '<p>Mug The best is yet to come</p>', 'mug-the-best-is-yet-to-come', '', '', '', 'Mug The best is yet to come', '', '', '', ''),
  (7, 1, 1, '<p>Mug The adventure begins</p>', '<p>Mug The adventure begins</p>', 'mug-the-adventure-begins', '', '', '', 'Mug The adventure begins', '', '', '', ''),
  (8, 1, 1, '<p>Mug Today is a good day</p>', '<p>Mug Today is a good day</p>', 'mug-today-is-a-good-day', '', '', '', 'Mug Today is a good day', '', '', '', ''),
  (9, 1, 1, '<p>Mountain fox cushion</p>', '<p>Mountain fox cushion</p>', 'mountain-fox-cushion', '', '', '', 'Mountain fox cushion', '', '', '', ''),
  (10, 1, 1, '<p>Brown bear cushion</p>', '<p>Brown bear cushion</p>', 'brown-bear-cushion', '', '', '', 'Brown bear cushion', '', '', '', ''),
  (11, 1, 1, '<p>Hummingbird cushion</p>', '<p>Hummingbird cushion</p>', 'hummingbird-cushion', '', '', '', 'Hummingbird cushion', '', '', '', ''),
  (12, 1, 1, '<p>Mountain fox - Vector graphics</p>', '<p>Mountain fox - Vector graphics</p>', 'mountain-fox-vector-graphics', '', '', '', 'Mountain fox - Vector graphics', '', '', '', ''),
  (13, 1, 1, '<p>Brown bear - Vector graphics</p>', '<p>Brown bear - Vector graphics</p>', 'brown-bear-vector-graphics', '', '', '', 'Brown bear - Vector graphics', '', '', '', ''),
  (14, 1, 1, '<p>Hummingbird - Vector graphics</p>', '<p>Hummingbird - Vector graphics</p>', 'hummingbird-vector-graphics', '', '', '', 'Hummingbird - Vector graphics', '', '', '', ''),
  (15, 1, 1, '<p>Pack Mug + Framed poster</p>', '<p>Pack Mug + Framed poster</p>', 'pack-mug-framed-poster', '', '', '', 'Pack Mug + Framed poster', '', '', '', ''),
  (16, 1, 1, '<p>Mountain fox notebook</p>', '<p>Mountain fox notebook</p>', 'mountain-fox-notebook', '', '', '', 'Mountain fox notebook', '', '', '', ''),
  (17, 1, 1, '<p>Brown bear notebook</p>', '<p>Brown bear notebook</p>', 'brown-bear-notebook', '', '', '', 'Brown bear notebook', '', '', '', ''),
  (18, 1, 1, '<p>Hummingbird notebook</p>', '<p>Hummingbird notebook</p>', 'hummingbird-notebook', '', '', '', 'Hummingbird notebook', '', '', '', ''),
  (19, 1, 1, '<p>Customizable mug</p>', '<p>Customizable mug</p>', 'customizable-mug', '', '', '', 'Customizable mug', '', '', '', '');

-- 39 combinations (t-shirt 8, sweater 4, posters 3 each with +0/+20/+50 impacts, cushions 2 each, notebooks 4 each)
INSERT INTO `PREFIX_product_attribute` (`id_product_attribute`, `id_product`, `reference`, `supplier_reference`, `ean13`, `isbn`, `upc`, `mpn`, `wholesale_price`, `price`, `ecotax`, `weight`, `unit_price_impact`, `default_on`, `minimal_quantity`, `low_stock_threshold`, `low_stock_alert`, `available_date`) VALUES
  (1, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (2, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (3, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (4, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (5, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (6, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (7, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (8, 1, 'demo_1', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (9, 2, 'demo_3', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (10, 2, 'demo_3', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (11, 2, 'demo_3', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (12, 2, 'demo_3', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (13, 3, 'demo_6', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (14, 3, 'demo_6', '', '', '', '', '', 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (15, 3, 'demo_6', '', '', '', '', '', 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (16, 4, 'demo_5', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (17, 4, 'demo_5', '', '', '', '', '', 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (18, 4, 'demo_5', '', '', '', '', '', 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (19, 5, 'demo_7', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (20, 5, 'demo_7', '', '', '', '', '', 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (21, 5, 'demo_7', '', '', '', '', '', 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (22, 9, 'demo_15', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (23, 9, 'demo_15', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (24, 10, 'demo_16', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (25, 10, 'demo_16', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (26, 11, 'demo_17', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (27, 11, 'demo_17', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (28, 16, 'demo_8', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (29, 16, 'demo_8', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (30, 16, 'demo_8', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (31, 16, 'demo_8', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (32, 17, 'demo_9', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (33, 17, 'demo_9', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (34, 17, 'demo_9', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (35, 17, 'demo_9', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (36, 18, 'demo_10', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (37, 18, 'demo_10', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (38, 18, 'demo_10', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (39, 18, 'demo_10', '', '', '', '', '', 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00');

INSERT INTO `PREFIX_product_attribute_shop` (`id_product`, `id_product_attribute`, `id_shop`, `wholesale_price`, `price`, `ecotax`, `weight`, `unit_price_impact`, `default_on`, `minimal_quantity`, `low_stock_threshold`, `low_stock_alert`, `available_date`) VALUES
  (1, 1, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (1, 2, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 3, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 4, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 5, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 6, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 7, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (1, 8, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (2, 9, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (2, 10, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (2, 11, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (2, 12, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (3, 13, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (3, 14, 1, 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (3, 15, 1, 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (4, 16, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (4, 17, 1, 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (4, 18, 1, 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (5, 19, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (5, 20, 1, 0.000000, 20.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (5, 21, 1, 0.000000, 50.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (9, 22, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (9, 23, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (10, 24, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (10, 25, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (11, 26, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (11, 27, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (16, 28, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (16, 29, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (16, 30, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (16, 31, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (17, 32, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (17, 33, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (17, 34, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (17, 35, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (18, 36, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, 1, 1, NULL, 0, '0000-00-00'),
  (18, 37, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (18, 38, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00'),
  (18, 39, 1, 0.000000, 0.000000, 0.000000, 0.000000, 0.000000, NULL, 1, NULL, 0, '0000-00-00');

-- Catalog discounts: -20 % on the t-shirt and the sweater (any shop/currency/country/group, unbounded dates)
INSERT INTO `PREFIX_specific_price` (`id_specific_price`, `id_specific_price_rule`, `id_cart`, `id_product`, `id_shop`, `id_shop_group`, `id_currency`, `id_country`, `id_group`, `id_customer`, `id_product_attribute`, `price`, `from_quantity`, `reduction`, `reduction_tax`, `reduction_type`, `from`, `to`) VALUES
  (1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, -1.000000, 1, 0.200000, 1, 'percentage', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
  (2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, -1.000000, 1, 0.200000, 1, 'percentage', '0000-00-00 00:00:00', '0000-00-00 00:00:00');

-- Stock: one product-level row (id_product_attribute = 0) per product + one row per combination; id_shop = 1, id_shop_group = 0
INSERT INTO `PREFIX_stock_available` (`id_stock_available`, `id_product`, `id_product_attribute`, `id_shop`, `id_shop_group`, `quantity`, `physical_quantity`, `reserved_quantity`, `depends_on_stock`, `out_of_stock`, `location`) VALUES
  (1, 1, 0, 1, 0, 2400, 2400, 0, 0, 2, ''),
  (2, 1, 1, 1, 0, 300, 300, 0, 0, 2, ''),
  (3, 1, 2, 1, 0, 300, 300, 0, 0, 2, ''),
  (4, 1, 3, 1, 0, 300, 300, 0, 0, 2, ''),
  (5, 1, 4, 1, 0, 300, 300, 0, 0, 2, ''),
  (6, 1, 5, 1, 0, 300, 300, 0, 0, 2, ''),
  (7, 1, 6, 1, 0, 300, 300, 0, 0, 2, ''),
  (8, 1, 7, 1, 0, 300, 300, 0, 0, 2, ''),
  (9, 1, 8, 1, 0, 300, 300, 0, 0, 2, ''),
  (10, 2, 0, 1, 0, 1200, 1200, 0, 0, 2, ''),
  (11, 2, 9, 1, 0, 300, 300, 0, 0, 2, ''),
  (12, 2, 10, 1, 0, 300, 300, 0, 0, 2, ''),
  (13, 2, 11, 1, 0, 300, 300, 0, 0, 2, ''),
  (14, 2, 12, 1, 0, 300, 300, 0, 0, 2, ''),
  (15, 3, 0, 1, 0, 900, 900, 0, 0, 2, ''),
  (16, 3, 13, 1, 0, 300, 300, 0, 0, 2, ''),
  (17, 3, 14, 1, 0, 300, 300, 0, 0, 2, ''),
  (18, 3, 15, 1, 0, 300, 300, 0, 0, 2, ''),
  (19, 4, 0, 1, 0, 900, 902, 2, 0, 2, ''),
  (20, 4, 16, 1, 0, 300, 300, 0, 0, 2, ''),
  (21, 4, 17, 1, 0, 300, 300, 0, 0, 2, ''),
  (22, 4, 18, 1, 0, 300, 302, 2, 0, 2, ''),
  (23, 5, 0, 1, 0, 900, 900, 0, 0, 2, ''),
  (24, 5, 19, 1, 0, 300, 300, 0, 0, 2, ''),
  (25, 5, 20, 1, 0, 300, 300, 0, 0, 2, ''),
  (26, 5, 21, 1, 0, 300, 300, 0, 0, 2, ''),
  (27, 6, 0, 1, 0, 300, 300, 0, 0, 2, ''),
  (28, 7, 0, 1, 0, 300, 300, 0, 0, 2, ''),
  (29, 8, 0, 1, 0, 300, 301, 1, 0, 2, ''),
  (30, 9, 0, 1, 0, 600, 600, 0, 0, 2, ''),
  (31, 9, 22, 1, 0, 300, 300, 0, 0, 2, ''),
  (32, 9, 23, 1, 0, 300, 300, 0, 0, 2, ''),
  (33, 10, 0, 1, 0, 600, 601, 1, 0, 2, ''),
  (34, 10, 24, 1, 0, 300, 300, 0, 0, 2, ''),
  (35, 10, 25, 1, 0, 300, 301, 1, 0, 2, ''),
  (36, 11, 0, 1, 0, 600, 600, 0, 0, 2, ''),
  (37, 11, 26, 1, 0, 300, 300, 0, 0, 2, ''),
  (38, 11, 27, 1, 0, 300, 300, 0, 0, 2, ''),
  (39, 12, 0, 1, 0, 300, 300, 0, 0, 2, ''),
  (40, 13, 0, 1, 0, 300, 300, 0, 0, 2, ''),
  (41, 14, 0, 1, 0, 300, 300, 0, 0, 2, ''),
  (42, 15, 0, 1, 0, 100, 100, 0, 0, 2, ''),
  (43, 16, 0, 1, 0, 1200, 1201, 1, 0, 2, ''),
  (44, 16, 28, 1, 0, 300, 300, 0, 0, 2, ''),
  (45, 16, 29, 1, 0, 300, 301, 1, 0, 2, ''),
  (46, 16, 30, 1, 0, 300, 300, 0, 0, 2, ''),
  (47, 16, 31, 1, 0, 300, 300, 0, 0, 2, ''),
  (48, 17, 0, 1, 0, 1200, 1200, 0, 0, 2, ''),
  (49, 17, 32, 1, 0, 300, 300, 0, 0, 2, ''),
  (50, 17, 33, 1, 0, 300, 300, 0, 0, 2, ''),
  (51, 17, 34, 1, 0, 300, 300, 0, 0, 2, ''),
  (52, 17, 35, 1, 0, 300, 300, 0, 0, 2, ''),
  (53, 18, 0, 1, 0, 1200, 1200, 0, 0, 2, ''),
  (54, 18, 36, 1, 0, 300, 300, 0, 0, 2, ''),
  (55, 18, 37, 1, 0, 300, 300, 0, 0, 2, ''),
  (56, 18, 38, 1, 0, 300, 300, 0, 0, 2, ''),
  (57, 18, 39, 1, 0, 300, 300, 0, 0, 2, ''),
  (58, 19, 0, 1, 0, 300, 300, 0, 0, 2, '');

-- 5 demo orders (none invoiced: invoice/delivery dates are zero dates)
INSERT INTO `PREFIX_orders` (`id_order`, `reference`, `id_shop_group`, `id_shop`, `id_carrier`, `id_lang`, `id_customer`, `id_cart`, `id_currency`, `id_address_delivery`, `id_address_invoice`, `current_state`, `secure_key`, `payment`, `conversion_rate`, `module`, `recyclable`, `gift`, `gift_message`, `mobile_theme`, `total_discounts`, `total_discounts_tax_incl`, `total_discounts_tax_excl`, `total_paid`, `total_paid_tax_incl`, `total_paid_tax_excl`, `total_paid_real`, `total_products`, `total_products_wt`, `total_shipping`, `total_shipping_tax_incl`, `total_shipping_tax_excl`, `carrier_tax_rate`, `total_wrapping`, `total_wrapping_tax_incl`, `total_wrapping_tax_excl`, `round_mode`, `round_type`, `invoice_number`, `delivery_number`, `invoice_date`, `delivery_date`, `valid`, `date_add`, `date_upd`, `note`) VALUES
  (1, 'XKBKNABJK', 1, 1, 2, 1, 1, 1, 1, 2, 2, 6, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', 'Payment by check', 1.000000, 'ps_checkpayment', 0, 0, '', 0, 0.000000, 0.000000, 0.000000, 66.800000, 66.800000, 66.800000, 0.000000, 59.800000, 59.800000, 7.000000, 7.000000, 7.000000, 0.000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '2024-03-01 09:15:00', '2024-03-02 10:00:00', NULL),
  (2, 'OHSATSERP', 1, 1, 2, 1, 1, 2, 1, 2, 2, 1, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', 'Payment by check', 1.000000, 'ps_checkpayment', 0, 0, '', 0, 0.000000, 0.000000, 0.000000, 176.900000, 176.900000, 176.900000, 0.000000, 169.900000, 169.900000, 7.000000, 7.000000, 7.000000, 0.000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '2024-03-03 14:20:00', '2024-03-03 14:20:00', NULL),
  (3, 'UOYEVOLI', 1, 1, 2, 1, 1, 3, 1, 2, 2, 8, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', 'Payment by check', 1.000000, 'ps_checkpayment', 0, 0, '', 0, 0.000000, 0.000000, 0.000000, 19.900000, 19.900000, 19.900000, 0.000000, 12.900000, 12.900000, 7.000000, 7.000000, 7.000000, 0.000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '2024-03-04 11:05:00', '2024-03-04 16:30:00', NULL),
  (4, 'FFATNOMMJ', 1, 1, 2, 1, 1, 4, 1, 2, 2, 1, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', 'Payment by check', 1.000000, 'ps_checkpayment', 0, 0, '', 0, 0.000000, 0.000000, 0.000000, 19.900000, 19.900000, 19.900000, 0.000000, 12.900000, 12.900000, 7.000000, 7.000000, 7.000000, 0.000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '2024-03-05 08:45:00', '2024-03-05 08:45:00', NULL),
  (5, 'KHWLILZLL', 1, 1, 2, 1, 1, 5, 1, 2, 2, 10, 'b44a6d9efd7a0076a0fbce6b15eaf3b1', 'Bank wire', 1.000000, 'ps_wirepayment', 0, 0, '', 0, 0.000000, 0.000000, 0.000000, 25.900000, 25.900000, 25.900000, 0.000000, 18.900000, 18.900000, 7.000000, 7.000000, 7.000000, 0.000, 0.000000, 0.000000, 0.000000, 2, 1, 0, 0, '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '2024-03-06 17:10:00', '2024-03-06 17:10:00', NULL);

-- 7 order lines
INSERT INTO `PREFIX_order_detail` (`id_order_detail`, `id_order`, `id_order_invoice`, `id_warehouse`, `id_shop`, `product_id`, `product_attribute_id`, `id_customization`, `product_name`, `product_quantity`, `product_quantity_in_stock`, `product_quantity_refunded`, `product_quantity_return`, `product_quantity_reinjected`, `product_price`, `reduction_percent`, `reduction_amount`, `reduction_amount_tax_incl`, `reduction_amount_tax_excl`, `group_reduction`, `product_quantity_discount`, `product_ean13`, `product_isbn`, `product_upc`, `product_mpn`, `product_reference`, `product_supplier_reference`, `product_weight`, `id_tax_rules_group`, `tax_computation_method`, `tax_name`, `tax_rate`, `ecotax`, `ecotax_tax_rate`, `discount_quantity_applied`, `download_hash`, `download_nb`, `download_deadline`, `total_price_tax_incl`, `total_price_tax_excl`, `unit_price_tax_incl`, `unit_price_tax_excl`, `total_shipping_price_tax_incl`, `total_shipping_price_tax_excl`, `purchase_supplier_price`, `original_product_price`, `original_wholesale_price`, `total_refunded_tax_excl`, `total_refunded_tax_incl`) VALUES
  (1, 1, 0, 0, 1, 1, 1, 0, 'Hummingbird printed t-shirt - Color : White, Size : S', 1, 1, 0, 0, 0, 23.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_1', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 23.900000, 23.900000, 23.900000, 23.900000, 0.000000, 0.000000, 0.000000, 23.900000, 0.000000, 0.000000, 0.000000),
  (2, 1, 0, 0, 1, 2, 9, 0, 'Hummingbird printed sweater - Color : White, Size : S', 1, 1, 0, 0, 0, 35.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_3', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 35.900000, 35.900000, 35.900000, 35.900000, 0.000000, 0.000000, 0.000000, 35.900000, 0.000000, 0.000000, 0.000000),
  (3, 2, 0, 0, 1, 4, 18, 0, 'The adventure begins Framed poster - Size : 80x120cm', 2, 2, 0, 0, 0, 79.000000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_5', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 158.000000, 158.000000, 79.000000, 79.000000, 0.000000, 0.000000, 0.000000, 79.000000, 0.000000, 0.000000, 0.000000),
  (4, 2, 0, 0, 1, 8, 0, 0, 'Mug Today is a good day', 1, 1, 0, 0, 0, 11.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_13', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 11.900000, 11.900000, 11.900000, 11.900000, 0.000000, 0.000000, 0.000000, 11.900000, 0.000000, 0.000000, 0.000000),
  (5, 3, 0, 0, 1, 16, 28, 0, 'Mountain fox notebook Style : Ruled', 1, 1, 0, 0, 0, 12.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_8', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 12.900000, 12.900000, 12.900000, 12.900000, 0.000000, 0.000000, 0.000000, 12.900000, 0.000000, 0.000000, 0.000000),
  (6, 4, 0, 0, 1, 16, 29, 0, 'Mountain fox notebook Style : Plain', 1, 1, 0, 0, 0, 12.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_8', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 12.900000, 12.900000, 12.900000, 12.900000, 0.000000, 0.000000, 0.000000, 12.900000, 0.000000, 0.000000, 0.000000),
  (7, 5, 0, 0, 1, 10, 25, 0, 'Brown bear cushion Color : Black', 1, 1, 0, 0, 0, 18.900000, 0.00, 0.000000, 0.000000, 0.000000, 0.00, 0.000000, '', '', '', '', 'demo_16', '', 0.000000, 0, 0, '', 0.000, 0.000000, 0.000, 0, '', 0, '0000-00-00 00:00:00', 18.900000, 18.900000, 18.900000, 18.900000, 0.000000, 0.000000, 0.000000, 18.900000, 0.000000, 0.000000, 0.000000);

-- State history: orders 1 and 3 were later canceled / set to payment error by employee 1
INSERT INTO `PREFIX_order_history` (`id_order_history`, `id_employee`, `id_order`, `id_order_state`, `date_add`) VALUES
  (1, 0, 1, 1, '2024-03-01 09:15:00'),
  (2, 0, 2, 1, '2024-03-03 14:20:00'),
  (3, 0, 3, 1, '2024-03-04 11:05:00'),
  (4, 0, 4, 1, '2024-03-05 08:45:00'),
  (5, 0, 5, 10, '2024-03-06 17:10:00'),
  (6, 1, 1, 6, '2024-03-02 10:00:00'),
  (7, 1, 3, 8, '2024-03-04 16:30:00');

-- One carrier row per order, no tracking number yet
INSERT INTO `PREFIX_order_carrier` (`id_order_carrier`, `id_order`, `id_carrier`, `id_order_invoice`, `weight`, `shipping_cost_tax_excl`, `shipping_cost_tax_incl`, `tracking_number`, `date_add`) VALUES
  (1, 1, 2, NULL, 0.000000, 7.000000, 7.000000, NULL, '2024-03-01 09:15:00'),
  (2, 2, 2, NULL, 0.000000, 7.000000, 7.000000, NULL, '2024-03-03 14:20:00'),
  (3, 3, 2, NULL, 0.000000, 7.000000, 7.000000, NULL, '2024-03-04 11:05:00'),
  (4, 4, 2, NULL, 0.000000, 7.000000, 7.000000, NULL, '2024-03-05 08:45:00'),
  (5, 5, 2, NULL, 0.000000, 7.000000, 7.000000, NULL, '2024-03-06 17:10:00');
