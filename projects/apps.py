from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "Projects and events"

    def ready(self):
        from projects import links  # noqa: F401 - registers the lists it adds to the catalogue's records
