"""Read a rendered HTML form the way a browser would submit it."""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data = {}
        self._textarea = None
        self._select = None
        self._select_value = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (self.form_id is None or attrs.get("id") == self.form_id):
            self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value", "on"))
                return
            self.data.setdefault(name, []).append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
            self._select_value = None
            self._select_multiple = "multiple" in attrs
            self._first_option = None
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.data.setdefault(self._select, []).append(value)
                self._select_value = value

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if (
                self._select_value is None
                and not self._select_multiple
                and self._first_option is not None
            ):
                self.data.setdefault(self._select, []).append(self._first_option)
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            # Browsers drop the newline right after <textarea>.
            value = self.data[self._textarea][-1] + data
            self.data[self._textarea][-1] = value.removeprefix("\n")


def form_data(response, form_id=None):
    """{name: value or [values]} of the form in ``response``, as a browser posts it."""
    parser = _FormParser(form_id)
    parser.feed(response.content.decode())
    return {
        name: values[0] if len(values) == 1 else values
        for name, values in parser.data.items()
    }
