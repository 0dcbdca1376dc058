"""Push inbound (R-S2): Salesforce Outbound Messages and the Flow/Apex JSON webhook.

Both feed one durable inbox per tenant; a processor drains it in arrival order
through the sync engine's inbound path, so a pushed change and a polled change are
applied by the same code.

- :mod:`crmbridge.push.soap`: read ``notifications``, answer the Ack or a SOAP fault.
- :mod:`crmbridge.push.webhook`: the webhook's signature and payload.
"""
