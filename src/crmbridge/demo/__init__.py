"""``crmbridge demo``: an emulated Salesforce org and crmbridge syncing with it."""
