"""PrestaShop, the shop side's one home: its database connection (:mod:`.database`), how it reads
``ps_configuration`` and names order states (:mod:`.configuration`), its stock and order-state
rules (:mod:`.rules`), the tables pssync keeps in the shop database (:mod:`.tables`) and its
Webservice API (:mod:`.webservice`). Every stage that touches the shop goes through here."""
