#include "rag/html_text.hpp"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rag/sections.hpp"

namespace parley::rag {

namespace {

// Real pages nest a few dozen levels and leave a few formatting elements (b, i, font...)
// open; beyond these, a page is refused before gumbo sees it.
constexpr int max_nesting = 256;
// Each formatting element left open is copied into every later block (the parsing
// algorithm's "reconstruction"), so their number multiplies gumbo's time and memory.
constexpr int max_open_formatting = 16;

bool in(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

struct nesting {
  int depth = 0;       // open elements
  int formatting = 0;  // open formatting elements
};

bool is_formatting(std::string_view name) {
  return in(name, {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike",
                   "strong", "tt", "u"});
}

// Upper bounds, close enough, of how deep gumbo will nest the elements of `html` and
// of how many formatting elements it will hold open: start tags open an element unless
// void or closed implicitly by their next sibling (p, li, td...), end tags close one.
// "<div/>" opens a div in HTML (the parser ignores the slash) but closes itself inside
// SVG and MathML, until an HTML tag breaks out of them. Comments and the raw text of
// scripts and styles are skipped.
nesting deepest_nesting(std::string_view html) {
  nesting now;
  nesting deepest;
  bool foreign = false;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    if (html.substr(i).starts_with("<!--")) {
      const auto end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    const bool closing = i + 1 < html.size() && html[i + 1] == '/';
    std::size_t n = i + (closing ? 2 : 1);
    if (n >= html.size() || !std::isalpha(static_cast<unsigned char>(html[n]))) {
      // "<!doctype", "<?xml", a lone "<": nothing opens.
      i = n;
      continue;
    }
    std::string name;
    while (n < html.size() && !is_html_space(html[n]) && html[n] != '/' && html[n] != '>') {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[n++])));
    }
    const auto gt = html.find('>', n);
    const auto tag_end = gt == std::string_view::npos ? html.size() : gt + 1;
    const bool self_closing = gt != std::string_view::npos && html[gt - 1] == '/';
    i = tag_end;
    if (in(name,
           {"area",     "base",    "br",    "col", "embed",  "hr",       "img",   "input", "link",
            "meta",     "source",  "track", "wbr", "param",  "keygen",   "p",     "li",    "dt",
            "dd",       "tr",      "td",    "th",  "option", "optgroup", "thead", "tbody", "tfoot",
            "colgroup", "caption", "rb",    "rt",  "rp",     "rtc"})) {
      continue;
    }
    if (closing) {
      now.depth = std::max(0, now.depth - 1);
      if (is_formatting(name)) now.formatting = std::max(0, now.formatting - 1);
      if (name == "svg" || name == "math") foreign = false;
      continue;
    }
    if (foreign && in(name, {"b",   "big",  "blockquote", "body",    "center", "code",   "div",
                             "dl",  "em",   "h1",         "h2",      "h3",     "h4",     "h5",
                             "h6",  "head", "i",          "listing", "menu",   "nobr",   "ol",
                             "pre", "ruby", "s",          "small",   "span",   "strong", "strike",
                             "sub", "sup",  "table",      "tt",      "u",      "ul",     "var"})) {
      foreign = false;
    }
    if (foreign && self_closing) continue;
    deepest.depth = std::max(deepest.depth, ++now.depth);
    if (is_formatting(name)) deepest.formatting = std::max(deepest.formatting, ++now.formatting);
    if (name == "svg" || name == "math") foreign = true;
    if (!foreign && in(name, {"script", "style", "textarea", "title", "xmp", "iframe", "noembed",
                              "noframes", "plaintext"})) {
      // Raw text up to the matching end tag (case-insensitively); "<" inside is text.
      const std::string end_tag = "</" + name;
      const auto end = std::search(
          html.begin() + i, html.end(), end_tag.begin(), end_tag.end(),
          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
      i = static_cast<std::size_t>(end - html.begin());
    }
  }
  return deepest;
}

bool dropped(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_IFRAME: return true;
    default: return false;
  }
}

// Blocks that stand apart from their neighbours by a blank line.
bool paragraph_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_HR: return true;
    default: return false;
  }
}

// Blocks that only start and end a line.
bool line_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: return true;
    default: return false;
  }
}

int heading_level(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

// Text with runs of HTML white space collapsed to one space, trimmed.
class collapsed_text {
 public:
  void add(std::string_view text) {
    for (const char c : text) {
      if (is_html_space(c)) {
        space_ = !out_.empty();
        continue;
      }
      start();
      if (space_) out_ += ' ';
      space_ = false;
      out_ += c;
    }
  }
  // Appended as is: text inside <pre> and the " | " between table cells.
  void add_verbatim(std::string_view text) {
    if (text.empty()) return;
    start();
    out_ += text;
    space_ = false;
  }
  // Written before the next text, if any comes before clear_prefix(): a list item's
  // "- ", even when its text is in a paragraph of its own.
  void prefix(std::string_view text) { prefix_ = text; }
  void clear_prefix() { prefix_ = {}; }
  std::string take() {
    space_ = false;
    return std::move(out_);
  }

 private:
  void start() {
    if (out_.empty()) out_ = std::exchange(prefix_, {});
  }

  std::string out_;
  std::string_view prefix_;
  bool space_ = false;
};

void inline_text(const GumboNode* node, collapsed_text& out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA ||
      node->type == GUMBO_NODE_WHITESPACE) {
    out.add(node->v.text.text);
    return;
  }
  if (node->type != GUMBO_NODE_ELEMENT || dropped(node->v.element.tag)) return;
  const auto& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    inline_text(static_cast<const GumboNode*>(children.data[i]), out);
  }
}

class html_reader {
 public:
  extracted_document read(const GumboOutput& output) {
    walk(output.root);
    end_section();
    if (const auto* title = find_title(output.root)) {
      collapsed_text text;
      inline_text(title, text);
      doc_.title = text.take();
    }
    if (doc_.title.empty()) doc_.title = first_h1_;
    return std::move(doc_);
  }

 private:
  void walk(const GumboNode* node) {
    switch (node->type) {
      case GUMBO_NODE_TEXT:
      case GUMBO_NODE_CDATA:
      case GUMBO_NODE_WHITESPACE: text(node->v.text.text); return;
      case GUMBO_NODE_ELEMENT: element(node); return;
      default: return;  // comments, and template contents (GUMBO_NODE_TEMPLATE)
    }
  }

  void element(const GumboNode* node) {
    const auto& el = node->v.element;
    if (dropped(el.tag)) return;
    // A header or footer of the page is its banner; inside an article or main it
    // introduces the content (often with its h1), so it stays.
    const bool page_furniture = el.tag == GUMBO_TAG_HEADER || el.tag == GUMBO_TAG_FOOTER;
    if (page_furniture && content_depth_ == 0) return;
    if (const int level = heading_level(el.tag); level > 0) {
      heading(node, level);
      return;
    }
    if (el.tag == GUMBO_TAG_IMG) {
      if (const auto* alt = gumbo_get_attribute(&el.attributes, "alt")) text(alt->value);
      return;
    }
    const bool paragraph = paragraph_block(el.tag);
    const bool content = el.tag == GUMBO_TAG_ARTICLE || el.tag == GUMBO_TAG_MAIN;
    if (paragraph) {
      blank_line();
    } else if (line_block(el.tag)) {
      end_line();
    }
    if (el.tag == GUMBO_TAG_LI) line_.prefix("- ");
    if (el.tag == GUMBO_TAG_PRE) ++pre_depth_;
    if (content) ++content_depth_;
    bool first_cell = true;
    for (unsigned i = 0; i < el.children.length; ++i) {
      const auto* child = static_cast<const GumboNode*>(el.children.data[i]);
      const bool cell =
          child->type == GUMBO_NODE_ELEMENT &&
          (child->v.element.tag == GUMBO_TAG_TD || child->v.element.tag == GUMBO_TAG_TH);
      if (cell && !first_cell) line_.add_verbatim(" | ");
      if (cell) first_cell = false;
      walk(child);
    }
    if (content) --content_depth_;
    if (el.tag == GUMBO_TAG_PRE) --pre_depth_;
    if (el.tag == GUMBO_TAG_LI) line_.clear_prefix();
    if (paragraph) {
      blank_line();
    } else if (line_block(el.tag)) {
      end_line();
    }
  }

  void text(std::string_view t) {
    if (pre_depth_ == 0) {
      line_.add(t);
      return;
    }
    // Preformatted text keeps its spaces and line breaks.
    for (std::size_t nl; (nl = t.find('\n')) != std::string_view::npos; t.remove_prefix(nl + 1)) {
      line_.add_verbatim(t.substr(0, nl));
      lines_.push_back(line_.take());
    }
    line_.add_verbatim(t);
  }

  void heading(const GumboNode* node, int level) {
    collapsed_text collected;
    inline_text(node, collected);
    auto heading = collected.take();
    if (level == 1 && first_h1_.empty()) first_h1_ = heading;
    end_section();
    trail_.enter(level, heading);
    heading_ = std::move(heading);
  }

  void end_line() {
    if (auto line = line_.take(); !line.empty()) lines_.push_back(std::move(line));
  }

  void blank_line() {
    end_line();
    lines_.emplace_back();
  }

  void end_section() {
    end_line();
    add_section(doc_.sections, trail_.path(), heading_, join_paragraphs(lines_));
    lines_.clear();
  }

  static const GumboNode* find_title(const GumboNode* node) {
    if (node->type != GUMBO_NODE_ELEMENT) return nullptr;
    const auto& el = node->v.element;
    if (el.tag_namespace != GUMBO_NAMESPACE_HTML) return nullptr;  // an SVG <title> is a tooltip
    if (el.tag == GUMBO_TAG_TITLE) return node;
    for (unsigned i = 0; i < el.children.length; ++i) {
      if (const auto* found = find_title(static_cast<const GumboNode*>(el.children.data[i]))) {
        return found;
      }
    }
    return nullptr;
  }

  extracted_document doc_{content_format::html, "text/html", {}, {}};
  heading_trail trail_;
  std::string heading_;  // the current section's own heading
  std::string first_h1_;
  std::vector<std::string> lines_;  // the current section's finished lines
  collapsed_text line_;             // the line being written
  int pre_depth_ = 0;
  int content_depth_ = 0;  // open <article> and <main> elements
};

}  // namespace

extracted_document html_document(std::string_view html) {
  if (const auto n = deepest_nesting(html);
      n.depth > max_nesting || n.formatting > max_open_formatting) {
    throw extract_error("the HTML is nested too deeply");
  }
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // parse errors are never read: do not collect them
  const auto destroy = [&options](GumboOutput* out) { gumbo_destroy_output(&options, out); };
  const std::unique_ptr<GumboOutput, decltype(destroy)> output(
      gumbo_parse_with_options(&options, html.data(), html.size()), destroy);
  if (!output) throw std::runtime_error("gumbo could not parse the HTML");
  return html_reader().read(*output);
}

}  // namespace parley::rag
