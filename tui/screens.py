"""The help screen and the first-run screen."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# papertape keys

| key | where | does |
|---|---|---|
| F1 | anywhere | this help |
| F2 / F3 / F4 / F5 | anywhere | Chat / Recall / Timeline / Status |
| Enter | chat | ask; `/note ` and a sentence stores it; `/continue` resumes the last chat |
| Tab | chat | jump between the question and the memories of the last answer |
| Enter | lists | open the memory under the cursor |
| Tab, Shift+Tab | elsewhere | move between fields |
| p / f / e / o / l | memory | pin or unpin / forget / edit / read the page back / open a link |
| c | memory | make a fact marked "updated by" current again (the update was wrong) |
| Escape | memory, help | close |
| Ctrl+Q | anywhere | quit |

The mouse works too: click tabs, rows and citations.
"""

WELCOME = """\
**Enter** or **Escape** to begin, **F1** for keys, **Ctrl+Q** to quit.

# Welcome to papertape

Your memory is empty. papertape keeps what you give it on this machine and lets it fade the
way a person's memory does: recent things sharp, older ones summarised, the oldest as a gist.

Give it something to remember:

- type `/note ` and a sentence in the chat box, or
- from a shell: `papertape note "..."` or `papertape ingest ~/notes`.

Then ask about it in the chat.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                            border: thick $primary; background: $surface; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)


class WelcomeScreen(HelpScreen):
    # The app's own keys do what they say from here too, closing the welcome first (Ctrl+Q
    # quits from any screen: the app checks it first).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Begin"),
        Binding("f1", "then('help')", "Keys"),
        *(
            Binding(key, f"then('show:{tab}')", tab.title(), show=False)
            for key, tab in (("f2", "chat"), ("f3", "recall"), ("f4", "timeline"), ("f5", "status"))
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Markdown(WELCOME)

    async def action_then(self, action: str) -> None:
        self.dismiss(None)
        name, _, tab = action.partition(":")
        await self.app.run_action(f"{name}({tab!r})" if tab else name)
