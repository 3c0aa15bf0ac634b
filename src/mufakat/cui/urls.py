app_name = "cui"
urlpatterns: list[object] = []
