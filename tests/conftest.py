import os

from hypothesis import HealthCheck, settings

# Random exploration stays on (a failure is a real bug); examples are bounded so the suite stays
# fast on two cores. PADMASK_HYPOTHESIS=thorough explores fifteen times more.
settings.register_profile("default", deadline=None, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=3000,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("PADMASK_HYPOTHESIS", "default"))
