"""Local stand-ins for services that cannot run here (Slack's Web API), recording what they receive."""
