from django.shortcuts import render
from django.views.decorators.http import require_safe

from monographs.search import MAX_QUERY_LENGTH, QueryError, clean_query, search
from monographs.views.params import page_of

RESULTS_PER_PAGE = 10


@require_safe
def search_view(request):
    context = {"query": "", "max_length": MAX_QUERY_LENGTH}
    try:
        query = clean_query(request.GET.get("q"))
    except QueryError as error:
        context["problem"] = str(error)
        return render(request, "monographs/search.html", context, status=400)
    context["query"] = query
    if query:
        page = page_of(request, search(query), RESULTS_PER_PAGE)
        context["page_obj"] = page
        context["paginator"] = page.paginator
    return render(request, "monographs/search.html", context)
