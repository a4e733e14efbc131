"""Citation formats. NLM/Vancouver for pages; exports build on the same fields."""

NLM_MAX_AUTHORS = 6


def _sentence(text):
    text = text.strip()
    if not text:
        return ""
    return text if text[-1] in ".?!" else f"{text}."


def vancouver_authors(citation):
    if citation.group_author:
        return citation.group_author
    names = citation.author_list
    truncated = bool(names) and names[-1].lower().rstrip(".") == "et al"
    if truncated:
        names = names[:-1]
    if len(names) > NLM_MAX_AUTHORS:
        names, truncated = names[:NLM_MAX_AUTHORS], True
    text = ", ".join(names)
    return f"{text}, et al" if truncated and text else text


def vancouver(citation):
    """The citation as NLM/Vancouver text, without identifiers."""
    parts = [_sentence(vancouver_authors(citation)), _sentence(citation.title)]
    if citation.publication_type == citation.PublicationType.WEB_PAGE:
        parts[-1] = _sentence(f"{citation.title or citation.url} [Internet]")
        site = getattr(citation, "publisher", "") or citation.journal
        if site:
            parts.append(_sentence(site))
        if citation.year:
            parts.append(_sentence(str(citation.year)))
    else:
        source = citation.journal
        if citation.publication_type == citation.PublicationType.GUIDELINE:
            source = getattr(citation, "publisher", "") or citation.journal
        detail = str(citation.year or "")
        if citation.volume:
            detail += f";{citation.volume}"
            if citation.issue:
                detail += f"({citation.issue})"
        if citation.pages:
            detail += f":{citation.pages}"
        parts.append(_sentence(" ".join(filter(None, [_sentence(source), detail]))))
    return " ".join(part for part in parts if part)


def citation_label(citation):
    """The best name readers can be given for a citation, never its key:
    the title, else the reference as far as it is known, else an identifier."""
    if citation.title.strip():
        return citation.title.strip()
    text = vancouver(citation)
    if text:
        return text
    for prefix, value in [
        ("doi:", citation.doi),
        ("PMID:", citation.pmid),
        ("PMCID:", citation.pmcid),
        ("", citation.url),
    ]:
        if value:
            return f"{prefix} {value}".strip()
    return "Untitled reference"
