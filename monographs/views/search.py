from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from monographs.search import MAX_QUERY_LENGTH, QueryError, clean_query, search

RESULTS_PER_PAGE = 10


@require_GET
def search_view(request):
    context = {"query": "", "max_length": MAX_QUERY_LENGTH}
    try:
        query = clean_query(request.GET.get("q"))
    except QueryError as error:
        context["problem"] = str(error)
        return render(request, "monographs/search.html", context, status=400)
    context["query"] = query
    if query:
        paginator = Paginator(search(query), RESULTS_PER_PAGE)
        number = request.GET.get("page", "1")
        if not number.isdigit() or not 1 <= int(number) <= paginator.num_pages:
            raise Http404("There is no such page of results.")
        context["page_obj"] = paginator.page(number)
        context["paginator"] = paginator
    return render(request, "monographs/search.html", context)
