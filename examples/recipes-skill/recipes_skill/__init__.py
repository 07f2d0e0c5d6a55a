"""The recipes skill: 'add what I need for pancakes' fills the basket with the ingredients, and
'put what I need for pancakes on the list' puts them on the household's shopping list."""

from __future__ import annotations

from pydantic import BaseModel

from assistant.sdk import Context, Reply, Request, Skill, elicit, intent, join, plural, say

RECIPES: dict[str, list[str]] = {
    "pancakes": ["pancake mix", "eggs", "milk", "maple syrup", "lemons"],
    "spaghetti bolognese": ["spaghetti", "pasta sauce", "parmesan"],
    "a full english": ["eggs", "bread", "butter", "baked beans"],
    "porridge": ["porridge oats", "milk", "bananas"],
    "tea and biscuits": ["tea bags", "biscuits", "milk"],
}
ALIASES = {"bolognese": "spaghetti bolognese", "spag bol": "spaghetti bolognese", "full english": "a full english", "fry up": "a full english", "breakfast": "a full english", "pancake": "pancakes"}  # fmt: skip


class Settings(BaseModel):
    servings: int = 1
    """How many of each ingredient to add."""


class RecipesSkill(Skill):
    name = "recipes"
    version = "0.1.0"
    description = "put what a recipe needs in your basket or on the list"
    permissions = frozenset({"catalog.read", "cart.write", "list.write"})
    nlu = "nlu.yml"
    Settings = Settings

    def _recipe(self, request: Request) -> tuple[str, list[str]] | Reply:
        dish = (request.value("dish") or "").lower().strip()
        if not dish:
            return elicit("dish", f"Which recipe? I know {join(list(RECIPES), 'or')}.")
        dish = ALIASES.get(dish, dish)
        ingredients = RECIPES.get(dish)
        if ingredients is None:
            return say(f"I don't know a recipe for {dish}. I know {join(list(RECIPES), 'and')}.")
        return dish, ingredients

    @intent("list_recipe")
    def list_recipe(self, ctx: Context, request: Request) -> Reply:
        recipe = self._recipe(request)
        if isinstance(recipe, Reply):
            return recipe
        dish, ingredients = recipe
        for ingredient in ingredients:
            ctx.list_writer.add(ingredient)  # merged with what is there already: milk stays one item
        return say(f"For {dish} I've put {join(ingredients)} on the list.")

    @intent("add_recipe")
    def add_recipe(self, ctx: Context, request: Request) -> Reply:
        recipe = self._recipe(request)
        if isinstance(recipe, Reply):
            return recipe
        dish, ingredients = recipe
        added, missing = [], []
        for ingredient in ingredients:
            found = ctx.catalog.search(ingredient, limit=1)
            if not found:
                missing.append(ingredient)
                continue
            ctx.cart.add(found[0], self.settings.servings)
            added.append(found[0].title)
        lines = ctx.cart.lines()
        total = ctx.money(sum(line.total_pence for line in lines))
        reply = f"For {dish} I've added {join(added)}. Your basket is now {plural(sum(ln.quantity for ln in lines), 'item')}, {total}."
        if missing:
            reply += f" I couldn't find {join(missing, 'or')}."
        return say(reply)
