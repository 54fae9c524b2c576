# Written by fabfiles/ports/oglam (create_local_settings).
DEBUG = False
ALLOWED_HOSTS = ["{{ .host }}"]
SECRET_KEY = {{ quote .secret_key }}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "{{ .webuser }}",
    }
}
